"""Image encoders: uint8 pixels in, a small feature vector out, normalised on the model's device.

Images enter as ``B x H x W x 3`` uint8 tensors (the layout of camera frames and of the replay store),
so only bytes cross to the GPU; the conversion to float, the scaling and the per-channel
normalisation run inside the module, on whatever device it lives on.

Two backbones:

- ``conv``: a DrQ/SAC-AE style stack of 3x3 convolutions with ReLU, trained from scratch;
- ``resnet10``: the ResNet-10 (one basic block per stage) that HIL-SERL uses, usually with frozen
  weights loaded from a local safetensors file (``pretrained_encoder_path``).

Both end in the same projection: flatten, linear, LayerNorm, tanh (the DrQ encoder head, which keeps
the features bounded for the critic).
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from robot_rl.models.config import ModelConfig


class PretrainedEncoderError(ValueError):
    """The local pretrained encoder file is missing or does not fit the configured backbone."""


class ConvBackbone(nn.Module):
    def __init__(self, channels: list[int], strides: list[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for out_channels, stride in zip(channels, strides):
            layers += [nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1), nn.ReLU(inplace=True)]
            in_channels = out_channels
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # type: ignore[no-any-return]


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.downsample(x))


class ResNet10Backbone(nn.Module):
    """ResNet-18's stem and stages with one basic block per stage (ResNet-10), as in HIL-SERL."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1))
        self.stages = nn.Sequential(BasicBlock(64, 64, 1), BasicBlock(64, 128, 2),
                                    BasicBlock(128, 256, 2), BasicBlock(256, 512, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))  # type: ignore[no-any-return]


def make_backbone(config: ModelConfig) -> nn.Module:
    if config.encoder == "conv":
        return ConvBackbone(config.conv_channels, config.conv_strides)
    assert config.encoder == "resnet10"  # ModelConfig validates the name
    return ResNet10Backbone()


def load_pretrained_backbone(backbone: nn.Module, path: str | Path) -> None:
    """Load backbone weights from a local safetensors file; every tensor must match by name and shape."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise PretrainedEncoderError(f"pretrained encoder {path} does not exist: give a local .safetensors file "
                                     "(robot_rl never downloads weights)")
    try:
        tensors = load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for a damaged header
        raise PretrainedEncoderError(f"pretrained encoder {path} is not a readable safetensors file: {err}") from None
    expected = backbone.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if tensors[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        raise PretrainedEncoderError(
            f"pretrained encoder {path} does not fit the {type(backbone).__name__}: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}, wrong shape {wrong[:5]}; save the backbone's own state_dict")
    backbone.load_state_dict(tensors)


class ImageEncoder(nn.Module):
    """One camera's encoder: ``B x H x W x 3`` uint8 -> ``B x image_features`` in (-1, 1)."""

    def __init__(self, config: ModelConfig, image_size: int) -> None:
        super().__init__()
        self.backbone = make_backbone(config)
        self.frozen = config.freeze_encoder
        if config.pretrained_encoder_path:
            load_pretrained_backbone(self.backbone, config.pretrained_encoder_path)
        if self.frozen:
            self.backbone.requires_grad_(False)
            self.backbone.eval()
        # channels-last convolutions (NHWC, the layout frames arrive in): measured on a 2-core CPU, the default
        # conv encoder's forward + backward at batch 256, 128x128 takes ~2/3 of the time it takes in NCHW
        self.backbone.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # documented, not in the stubs
        # (pixel - 255 mean) / (255 std) as one multiply-add, with the per-channel constants laid out over the whole
        # H x W x 3 frame: broadcasting a 3-vector over channels-last pixels ran an unvectorised inner loop of 3
        # (measured on the 2-core CPU: the default actor's cold act 4.15 -> 3.64 ms p50, same outputs to 2e-7)
        scale = 1.0 / (torch.tensor(config.image_std) * 255.0)
        shift = -torch.tensor(config.image_mean) * 255.0 * scale
        self.image_size = image_size
        self.register_buffer("pixel_scale", scale.expand(1, image_size, image_size, 3).contiguous(), persistent=False)
        self.register_buffer("pixel_shift", shift.expand(1, image_size, image_size, 3).contiguous(), persistent=False)
        with torch.no_grad():
            flat = self.backbone(torch.zeros(1, 3, image_size, image_size)).numel()
        self.projection = nn.Sequential(nn.Flatten(), nn.Linear(flat, config.image_features),
                                        nn.LayerNorm(config.image_features), nn.Tanh())

    def train(self, mode: bool = True) -> ImageEncoder:
        super().train(mode)
        if self.frozen:
            self.backbone.eval()  # frozen BatchNorm statistics stay those of the pretrained network
        return self

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``B x H x W x 3`` -> normalised float ``B x 3 x H x W`` (channels-last memory) on the images' device."""
        size = self.image_size
        if images.dtype != torch.uint8 or images.dim() != 4 or tuple(images.shape[1:]) != (size, size, 3):
            raise ValueError(f"images must be uint8 B x {size} x {size} x 3 (cameras.policy_image_size), got "
                             f"{images.dtype} {tuple(images.shape)}")
        x = torch.addcmul(self.pixel_shift, images.float(), self.pixel_scale)  # type: ignore[arg-type]
        return x.permute(0, 3, 1, 2)  # NCHW in channels-last memory, as the backbone's weights

    def backbone_features(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images -> the backbone's feature map ``B x C x h x w`` (what a frozen encoder lets the
        learner compute once per frame and cache)."""
        return self.backbone(self.normalize(images))  # type: ignore[no-any-return]

    def project(self, backbone_features: torch.Tensor) -> torch.Tensor:
        """Backbone feature map -> ``B x image_features`` (the trained head)."""
        return self.projection(backbone_features.float())  # type: ignore[no-any-return]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(self.backbone_features(images))
