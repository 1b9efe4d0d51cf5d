"""Bring up a graph from a ROS 2 XML launch file without ``ros2 launch``: parse, check, supervise.

On a machine with a ROS 2 install, ``ros2 launch robot_rl sim_launch.xml`` reads the same files.
"""
from robot_rl.bringup.launch_file import LaunchFileError, NodeSpec, parse_launch_file

__all__ = ["LaunchFileError", "NodeSpec", "parse_launch_file"]
