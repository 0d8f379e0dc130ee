"""Plain PyTorch modules: a small decoder-only transformer over bytes."""

import torch
from torch import nn

VOCAB_SIZE = (
    256  # bytes: any text file works, and no vocabulary has to be stored with the model
)


class CharTransformer(nn.Module):
    """Byte ids (N, T) -> next-byte logits (N, T, 256), each position seeing only the ones before it."""

    def __init__(
        self,
        block_size: int = 64,
        d_model: int = 64,
        num_layers: int = 2,
        num_heads: int = 4,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.block_size = block_size
        self.token = nn.Embedding(VOCAB_SIZE, d_model)
        self.position = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model,
            num_heads,
            dim_feedforward=4 * d_model,
            dropout=dropout,
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(
            layer, num_layers, enable_nested_tensor=False
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, VOCAB_SIZE)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(
                f"sequence of {t} tokens is longer than block_size={self.block_size}"
            )
        pos = torch.arange(t, device=idx.device)
        h = self.token(idx) + self.position(pos)
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=idx.device)
        h = self.blocks(h, mask=mask, is_causal=True)
        return self.head(self.norm(h))
