"""robot_rl: sample-efficient real-world RL for vision-based robot arms on ROS 2.

The core (everything outside ``robot_rl.ros``) imports no ROS package.
"""

__version__ = "0.1.0"
