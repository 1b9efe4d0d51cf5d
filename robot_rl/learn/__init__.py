"""The SAC learner: HIL-SERL's recipe in PyTorch, training from the streaming replay store.

One module per concept, read in this order:

- ``batch``: what the learner needs from the replay sampler (a Protocol) and the torch batch;
- ``augment``: DrQ random shift on uint8 images, on the learner's device;
- ``gripper``: how recorded gripper commands map onto the discrete gripper critic's choices and back;
- ``sac``: the networks, the losses (one function each) and the update step, in one place;
- ``features``: per-frame feature cache for a frozen pretrained encoder (``learner.cache_image_features``);
- ``distributed``: data-parallel training under torchrun (gradient all-reduce);
- ``checkpoint``: atomic safetensors + JSON checkpoints, optimizers included, never pickled;
- ``metrics``: TensorBoard and the console summary;
- ``trainer``: the process: follow the stores, update at the configured ratio, hand weights over;
- ``cli``: ``robot-rl train``;
- ``simulated``: train against a simulated task in one process (demos and rollouts through the replay store).

Importing this package does not import torch.
"""
