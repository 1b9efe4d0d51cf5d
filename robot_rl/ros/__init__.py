"""Thin rclpy nodes: each parses its parameters, builds a core object and wires topics.

The only package in robot_rl that imports rclpy and message packages.
"""
