"""ament_python package for robot_rl; also pip-installable (see scripts/install.sh)."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "robot_rl"

# One console script per node; the executable name is what launch files put in `exec`.
NODES = {
    "replay_writer": "robot_rl.ros.replay_writer_node:main",
    "sim_robot": "robot_rl.ros.sim_robot_node:main",
    "robot_adapter": "robot_rl.ros.robot_adapter_node:main",
    "camera": "robot_rl.ros.camera_node:main",
    "policy_server": "robot_rl.ros.policy_server_node:main",
    "safety": "robot_rl.ros.safety_node:main",
    "intervention": "robot_rl.ros.intervention_node:main",
    "episode": "robot_rl.ros.episode_node:main",
    "learner": "robot_rl.ros.learner_node:main",
    "reward": "robot_rl.ros.reward_node:main",
    "monitor": "robot_rl.ros.monitor_node:main",
}
TOOLS = {
    "robot-rl": "robot_rl.cli:main",
}


def share(*patterns: str) -> list[str]:
    return sorted(f for pattern in patterns for f in glob(pattern, recursive=True))


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["tests", "tests.*", "benchmarks"]),
    package_data={PACKAGE: ["config/**/*.yaml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", share("launch/*_launch.xml", "launch/fastdds_profile.xml")),
        (f"share/{PACKAGE}/calibration", share("calibration/*.yaml")),
    ],
    python_requires=">=3.11",
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="robot_rl maintainers",
    maintainer_email="maintainers@robot-rl.dev",
    description="Sample-efficient real-world RL for vision-based robot arms on ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [f"{name} = {target}" for name, target in {**NODES, **TOOLS}.items()],
    },
)
