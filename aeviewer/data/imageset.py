"""ImageSet: a labelled image set held in memory as uint8, turned into float batches on demand."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from aeviewer.data.page_budget import PageBudget

UNLABELLED = "unlabelled"  # the one class name of a set without labels (its legend says so)


@dataclass(frozen=True)
class ImageSet:
    """Images ``(N, C, H, W)`` uint8, labels ``(N,)`` int64, and the names of the classes."""

    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    name: str = ""
    #: Set when ``images`` is a read-only memory-mapped array (a set larger than --max-memory): what a batch
    #: reads through it is counted, and the mapped pages dropped past the limit.
    budget: "PageBudget | None" = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError("labels must have one entry per image")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def float_batch(self, index: torch.Tensor | slice, device: torch.device | str = "cpu") -> torch.Tensor:
        """Images at ``index`` as float32 in [0, 1] on ``device`` (converted per batch to keep memory low)."""
        batch = self.images[index]
        if self.budget is not None:
            self.budget.spent(batch.numel())
        return batch.to(device, non_blocking=True).float().div_(255.0)

    def mean_image(self) -> torch.Tensor:
        """The per-pixel mean over all images, float32 (C, H, W) in [0, 1]."""
        if self.budget is None:
            return self.images.sum(0, dtype=torch.float64).div_(255.0 * len(self)).float()
        total = torch.zeros(self.images.shape[1:], dtype=torch.float64)
        step = max(1, self.budget.limit // max(1, self.images[0].numel()) // 2)
        for start in range(0, len(self), step):  # a mapped set a chunk at a time, its pages dropped as it goes
            chunk = self.images[start:start + step]
            total += chunk.sum(0, dtype=torch.float64)
            self.budget.spent(chunk.numel())
        return total.div_(255.0 * len(self)).float()

    def subset(self, index: torch.Tensor | slice) -> "ImageSet":
        return ImageSet(self.images[index], self.labels[index], self.class_names, self.name, budget=self.budget)
