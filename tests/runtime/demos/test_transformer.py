"""runtime.demos: the Transformer language model and WikiText2 (from a local file, no download)."""
import torch
from torch.utils.data import DataLoader

from runtime.demos import Transformer, WikiText2
from tests.runtime.helpers import make_trainer


def test_wikitext_blocks_and_a_short_fit(tmp_path):
    (tmp_path / "wikitext-2.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20)
    data = WikiText2(tmp_path, block_size=5, download=False)
    inputs, target = data[0]
    assert data.vocab_size == 8 and inputs.shape == target.shape == (5,)
    assert torch.equal(inputs[1:], target[:-1])  # the target is the next word

    from runtime.demos.transformer import LightningTransformer

    class Tiny(LightningTransformer):
        def __init__(self):
            super().__init__(vocab_size=data.vocab_size)
            self.model = Transformer(vocab_size=data.vocab_size, ninp=8, nhead=2, nhid=16, nlayers=1, dropout=0.0)

        def prepare_data(self):
            pass

        def train_dataloader(self):
            return DataLoader(data, batch_size=4)

    model = Tiny()
    make_trainer(tmp_path, max_steps=3, limit_val_batches=0).fit(model)
    out = model(inputs[None], target[None])
    assert out.shape == (5, data.vocab_size) and torch.allclose(out.exp().sum(-1), torch.ones(5), atol=1e-5)


def test_missing_file_says_what_to_do(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="download=True"):
        WikiText2(tmp_path, download=False)
