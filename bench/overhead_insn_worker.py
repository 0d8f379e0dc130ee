"""Worker for bench/overhead_instructions.py: MODE (hand | A | B) and STEPS from argv; see that file."""
import sys, time, torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import os
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import runtime as pl  # noqa: E402
torch.set_num_threads(1)
mode, steps = sys.argv[1], int(sys.argv[2])
g = torch.Generator().manual_seed(0)
X = torch.randn(32 * 2000, 32, generator=g); Y = torch.randint(0, 10, (32 * 2000,), generator=g)
dl = DataLoader(TensorDataset(X, Y), batch_size=32)
def net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32,64), torch.nn.ReLU(), torch.nn.Linear(64,10))
class M(pl.LightningModule):
    def __init__(self):
        super().__init__(); self.net = net()
    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)  # warm torch's lazy imports outside the measured part
if mode == "hand":
    m = net(); opt = torch.optim.SGD(m.parameters(), lr=0.1)
    for i, (x, y) in enumerate(dl):
        if i == steps: break
        loss = F.cross_entropy(m(x), y); opt.zero_grad(); loss.backward(); opt.step()
else:
    kw = dict(logger=False, enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False) if mode == "A" else {"default_root_dir": "/tmp/insn_root"}
    pl.Trainer(max_steps=steps, num_sanity_val_steps=0, **kw).fit(M(), dl)
