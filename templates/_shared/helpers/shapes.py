"""The default data, drawn here (no downloads): coloured shapes at random places, sizes and colours."""

import math

import torch

SHAPES = ("circle", "square", "triangle", "plus")


def make_shapes(
    num_samples: int, image_size: int = 32, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``num_samples`` images (N, 3, image_size, image_size) in [-1, 1] on black, and their shape labels (N,).

    Each image holds one shape of ``SHAPES``, anti-aliased, in a saturated colour of random hue.

    >>> images, labels = make_shapes(4)
    >>> tuple(images.shape), [SHAPES[i] for i in labels]  # doctest: +SKIP
    ((4, 3, 32, 32), ['circle', 'plus', 'square', 'circle'])
    """
    g = torch.Generator().manual_seed(seed)
    n, s = num_samples, image_size
    labels = torch.randint(0, len(SHAPES), (n,), generator=g)
    scale = s / 32
    radius = (6 + 5 * torch.rand(n, generator=g)) * scale
    margin = radius + 1.5 * scale
    cx = margin + (s - 2 * margin) * torch.rand(n, generator=g)
    cy = margin + (s - 2 * margin) * torch.rand(n, generator=g)
    hue = torch.rand(n, generator=g)
    grid = torch.arange(s, dtype=torch.float32) + 0.5
    dx = grid.view(1, 1, s) - cx.view(n, 1, 1)
    dy = grid.view(1, s, 1) - cy.view(n, 1, 1)
    r = radius.view(n, 1, 1)
    # signed distance to each shape's edge, in pixels (negative inside)
    circle = torch.sqrt(dx**2 + dy**2) - r
    square = torch.maximum(dx.abs(), dy.abs()) - 0.8 * r
    triangle = (
        torch.stack(
            [
                dx * math.cos(a) + dy * math.sin(a)
                for a in (math.pi / 2, 7 * math.pi / 6, 11 * math.pi / 6)
            ]
        ).amax(0)
        - 0.6 * r
    )
    arm = 0.33 * r
    plus = torch.minimum(
        torch.maximum(dx.abs() - r, dy.abs() - arm),
        torch.maximum(dx.abs() - arm, dy.abs() - r),
    )
    distance = torch.stack([circle, square, triangle, plus], 1)[torch.arange(n), labels]
    alpha = (0.5 - distance).clamp(0, 1)  # one pixel of soft edge
    k = (
        torch.tensor([5.0, 3.0, 1.0]) + 6 * hue.view(n, 1)
    ) % 6  # hue -> a saturated RGB colour
    rgb = 1 - torch.minimum(k, 4 - k).clamp(0, 1)
    images = alpha.unsqueeze(1) * rgb.view(n, 3, 1, 1)
    return images * 2 - 1, labels
