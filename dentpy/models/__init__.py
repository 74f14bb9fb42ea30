"""Networks: torchvision classifiers adapted for fine-tuning, a 2-D/3-D U-Net, pretraining.

``classifiers`` (build_classifier, conv_blocks, freeze_blocks, parameter_summary),
``unet`` (UNet), ``small`` (SmallCNN, for quick experiments) and ``pretrain`` (pretrain on a
source task).
"""

from dentpy.models.classifiers import (
    ARCHITECTURES,
    adapt_first_conv,
    build_classifier,
    conv_blocks,
    freeze_blocks,
    parameter_summary,
    replace_head,
    trainable_blocks,
)
from dentpy.models.pretrain import pretrain
from dentpy.models.small import SmallCNN
from dentpy.models.unet import UNet

__all__ = [
    "ARCHITECTURES", "SmallCNN", "UNet", "adapt_first_conv", "build_classifier", "conv_blocks",
    "freeze_blocks", "parameter_summary", "pretrain", "replace_head", "trainable_blocks",
]
