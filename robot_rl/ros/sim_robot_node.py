"""sim_robot: the simulated Panda and its cameras on the same topics as a hardware driver and camera node.

Topics (relative: the node runs in the graph namespace, e.g. /robot_rl):

| name | type | QoS | |
|---|---|---|---|
| robot/state (pub) | sensor_msgs/JointState | SENSOR | 7 arm joints + gripper joint (rad, 0 = open) |
| robot/ee_pose (pub) | geometry_msgs/PoseStamped | SENSOR | pinch point in robot.base_frame |
| robot/gripper_state (pub) | sensor_msgs/JointState | SENSOR | one joint "gripper": position = opening 0 (closed)..1 (open) |
| robot/success (pub) | std_msgs/Bool | SENSOR | ground truth: cube lifted and held |
| sim/cube_pose (pub) | geometry_msgs/PoseStamped | SENSOR | ground-truth cube pose, base frame (tests, debugging) |
| camera/<name>/color/image_raw (pub) | sensor_msgs/Image | SENSOR | rgb8, sim.image_size square |
| camera/<name>/color/camera_info (pub) | sensor_msgs/CameraInfo | SENSOR | intrinsics from the MuJoCo fovy |
| /clock (pub, sim.realtime=false) | rosgraph_msgs/Clock | COMMAND | sim time |
| robot/command (sub) | geometry_msgs/TwistStamped | COMMAND | frame_id = base or ee frame; else rejected, arm holds |
| robot/gripper_command (sub) | std_msgs/Float32 | COMMAND | -1 open .. +1 closed (position target) |
| robot/reset (srv) | std_srvs/Trigger | | refused while the arm moves |

Time. With ``sim.realtime=true`` the node steps once per control period of wall time and stamps with
its (wall) clock. With ``sim.realtime=false`` it steps as fast as it can, stamps every message with sim
time and publishes that time on ``/clock``; run the other nodes with ``use_sim_time:=true`` (a ROS
parameter every rclpy/rclcpp node has) and their clocks, timers and message ages follow the
simulation, however fast it runs. Command age is measured on the same clock as the stepping.
In that mode the next step also waits (at most LOCKSTEP_WAIT_S of wall time) until the safety node has
sent the command for the previous one, so a simulation faster than the rest of the graph does not
outrun it; a slower one simply slows the whole graph down.

Session modes (``teleop.mode``): in ``replay`` every reset puts the cube where the recorded episode
started (its seed or ``initial_cube_position``); in ``return_explore`` every reset also executes the
episode's first ``teleop.return_step`` recorded actions inside the reset, so the next episode starts
from that recorded state (exact for an episode recorded by this simulator in one process; an
open-loop approximation for one recorded through the graph). See ``robot_rl.sim.modes``.
"""
from __future__ import annotations

import time

from builtin_interfaces.msg import Time as TimeMsg
from geometry_msgs.msg import PoseStamped, TwistStamped
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Bool, Float32, Header
from std_srvs.srv import Trigger

import robot_rl.sim  # noqa: F401  (selects headless OpenGL before MuJoCo loads)
from robot_rl.robot.interface import InvalidCommandError, RobotMovingError
from robot_rl.ros import qos
from robot_rl.ros.diagnostics import OK, WARN
from robot_rl.ros.image_cdr import encode_image
from robot_rl.ros.messages import to_stamp
from robot_rl.ros.node_base import RobotRLNode, run_node
from robot_rl.sim.loop import SimRunner, SimTick
from robot_rl.sim.modes import start_state
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.session import action_scale
from robot_rl.teleop.protocol import SessionMode, SourceEpisode, load_source_episode, parse_mode

LOCKSTEP_WAIT_S = 1.0  # sim.realtime=false: longest wall wait for the previous tick's robot/command


class SimRobotNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("sim_robot", hardware_id="mujoco:gym_hil", sim_time=False)  # it is the clock
        s = self.settings
        self.realtime = s.sim.realtime
        self.base_frame = s.robot.base_frame
        self.sim = PickCubeSim(s.sim, s.robot, s.cameras.names)
        self.runner = SimRunner(self.sim, s.safety.command_timeout_s)
        self.scale = action_scale(s.policy.max_linear_speed, s.policy.max_angular_speed)
        self.start: SourceEpisode | None = None  # replay / return_explore: the recorded episode resets go to
        self.start_step = s.teleop.return_step if parse_mode(s.teleop.mode) is SessionMode.RETURN_EXPLORE else 0
        if parse_mode(s.teleop.mode).needs_source:
            self.start = load_source_episode(s.teleop.source_path, s.teleop.source_group, s.teleop.source_episode)
            self.start.check_scale(self.scale)
            if self.start_step:
                self.start.check_step(self.start_step)

        self.state_pub = self.create_publisher(JointState, "robot/state", qos.SENSOR)
        self.pose_pub = self.create_publisher(PoseStamped, "robot/ee_pose", qos.SENSOR)
        self.gripper_pub = self.create_publisher(JointState, "robot/gripper_state", qos.SENSOR)
        self.success_pub = self.create_publisher(Bool, "robot/success", qos.SENSOR)
        self.cube_pub = self.create_publisher(PoseStamped, "sim/cube_pose", qos.SENSOR)
        self.clock_pub = None if self.realtime else self.create_publisher(Clock, "/clock", qos.COMMAND)
        self.cameras = {}
        for name in s.cameras.names:
            device = s.cameras.devices.get(name)
            frame_id = (device.frame_id if device else "") or f"{name}_color_optical_frame"
            info = self._camera_info(name, frame_id)
            image_pub = self.create_publisher(Image, f"camera/{name}/color/image_raw", qos.SENSOR)
            info_pub = self.create_publisher(CameraInfo, f"camera/{name}/color/camera_info", qos.SENSOR)
            self.cameras[name] = (frame_id, info, image_pub, info_pub)

        self.create_subscription(TwistStamped, "robot/command", self.on_command, qos.COMMAND)
        self.create_subscription(Float32, "robot/gripper_command", self.on_gripper, qos.COMMAND)
        self.create_service(Trigger, "robot/reset", self.on_reset)
        period = 1.0 / s.robot.control_hz if self.realtime else 1e-3
        self.timer = self.create_timer(period, self.on_tick)
        self._rate_window: list[float] = []
        self._last_command_stamp = -1.0  # sim time of the newest robot/command (realtime=false: lockstep)
        self._last_tick_wall = 0.0
        self._warned = False
        self.diagnostics.report(OK, "running", realtime=self.realtime, control_hz=s.robot.control_hz)
        self.get_logger().info(f"sim_robot: {s.sim.env_id} at {s.robot.control_hz} Hz, "
                               f"{'real time' if self.realtime else 'as fast as possible (/clock)'}, "
                               f"cameras {list(self.cameras)}")

    def _camera_info(self, name: str, frame_id: str) -> CameraInfo:
        intrinsics = self.sim.intrinsics(name)
        info = CameraInfo(width=intrinsics.width, height=intrinsics.height, distortion_model="plumb_bob",
                          d=[0.0] * 5, k=intrinsics.k, p=intrinsics.p,
                          r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
        info.header.frame_id = frame_id
        return info

    def now(self) -> float:
        """Seconds on the clock that commands age by: wall (real time) or sim time."""
        if self.realtime:
            return self.get_clock().now().nanoseconds * 1e-9
        return self.sim.time

    # -- inputs --------------------------------------------------------------------------------

    def on_command(self, msg: TwistStamped) -> None:
        t = msg.twist
        self._last_command_stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        try:
            self.runner.submit_twist(msg.header.frame_id, [t.linear.x, t.linear.y, t.linear.z],
                                     [t.angular.x, t.angular.y, t.angular.z], self.now())
        except InvalidCommandError as err:
            self.get_logger().error(f"rejected robot/command: {err}")
            self.diagnostics.report(WARN, f"rejected command: {err}", rejected_commands=self.runner.rejected)
            self._warned = True
            return
        if self._warned:  # a valid command after rejected ones: healthy again
            self._warned = False
            self.diagnostics.report(OK, "running")

    def on_gripper(self, msg: Float32) -> None:
        try:
            self.runner.submit_gripper(msg.data)
        except InvalidCommandError as err:
            self.get_logger().error(f"rejected robot/gripper_command: {err}")
            self.diagnostics.report(WARN, f"rejected gripper command: {err}",
                                    rejected_commands=self.runner.rejected)
            self._warned = True

    def on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        try:
            self.runner.reset()
            if self.start is not None:
                start_state(self.sim, self.start, self.scale, self.start_step)
        except RobotMovingError as err:
            self.get_logger().warning(f"reset refused: {err}")
            response.success, response.message = False, f"reset refused: {err}"
            return response
        cube = self.sim.cube_position()
        response.success = True
        response.message = f"reset: cube at x={cube[0]:.3f} y={cube[1]:.3f}"
        self.get_logger().info(response.message)
        return response

    # -- the control tick ----------------------------------------------------------------------

    def on_tick(self) -> None:
        start = time.perf_counter()
        if not self.realtime:
            waited = start - self._last_tick_wall
            if self._last_command_stamp < self.sim.time - 1e-6 and waited < LOCKSTEP_WAIT_S:
                return  # the graph has not answered the previous step yet
            self._last_tick_wall = start
        tick = self.runner.tick(self.now())
        stamp = to_stamp(tick.sim_time) if not self.realtime else self.get_clock().now().to_msg()
        if self.clock_pub is not None:
            self.clock_pub.publish(Clock(clock=to_stamp(tick.sim_time)))
        self.publish(tick, stamp)
        self._rate_window = (self._rate_window + [time.perf_counter() - start])[-20:]
        busy = sum(self._rate_window) / len(self._rate_window)
        self.diagnostics.set_values(sim_time=round(tick.sim_time, 3), ticks=self.runner.ticks,
                                    holding=tick.held, success=tick.success,
                                    realtime_factor_capacity=round(self.sim.control_dt / busy, 2),
                                    step_ms=round(tick.step_s * 1e3, 1), render_ms=round(tick.render_s * 1e3, 1),
                                    rejected_commands=self.runner.rejected)

    def publish(self, tick: SimTick, stamp: TimeMsg) -> None:
        obs = tick.observation
        header = Header(stamp=stamp, frame_id=self.base_frame)
        self.state_pub.publish(JointState(header=Header(stamp=stamp), name=list(obs.joint_names),
                                          position=obs.joint_positions.tolist(),
                                          velocity=obs.joint_velocities.tolist()))
        pose = PoseStamped(header=header)
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = obs.ee_position.tolist()
        o = pose.pose.orientation
        o.x, o.y, o.z, o.w = obs.ee_orientation.tolist()
        self.pose_pub.publish(pose)
        self.gripper_pub.publish(JointState(header=Header(stamp=stamp), name=["gripper"],
                                            position=[obs.gripper_opening]))
        self.success_pub.publish(Bool(data=tick.success))
        cube = PoseStamped(header=header)
        cube.pose.position.x, cube.pose.position.y, cube.pose.position.z = tick.cube_position.tolist()
        cube.pose.orientation.w = 1.0
        self.cube_pub.publish(cube)
        for name, image in tick.images.items():
            frame_id, info, image_pub, info_pub = self.cameras[name]
            image_pub.publish(encode_image(image, stamp.sec, stamp.nanosec, frame_id))
            info.header.stamp = stamp
            info_pub.publish(info)

    def destroy_node(self) -> None:
        self.sim.close()  # the GL context goes before the interpreter tears EGL down (no shutdown tracebacks)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(SimRobotNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
