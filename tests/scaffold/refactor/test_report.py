"""What cannot be placed is kept (commented out, in a marked block) and listed with its lines; local modules travel."""
import pytest

from scaffold.refactor import refactor_script
from scaffold.refactor.verify import compare
from tests.scaffold.refactor.helpers import FIT, SCRIPTS, run

NETDEFS = '''import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 1)

    def forward(self, x):
        return self.fc(x)
'''
EARLY_STOP = '''import torch
from netdefs import Net

torch.manual_seed(6)
x = torch.randn(64, 3)
y = x.sum(1, keepdim=True)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True)
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
best = float("inf")
for epoch in range(5):
    for xb, yb in loader:
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
    if loss.item() > best:
        break  # early stopping, by hand
    best = loss.item()
'''


@pytest.fixture
def early_stop(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "netdefs.py").write_text(NETDEFS)
    (src / "train_es.py").write_text(EARLY_STOP)
    return src / "train_es.py"


def test_unplaced_code_is_kept_and_reported(early_stop, tmp_path):
    result = refactor_script(early_stop, output=tmp_path / "es")
    assert result.unplaced == 1
    report = (result.path / "REFACTOR.md").read_text()
    assert "## Not placed" in report and "- lines 17-18:" in report and "break  # early stopping, by hand" in report
    module = (result.path / result.package / "module.py").read_text()
    assert "NOT PLACED" in module and "#     if loss.item() > best:\n#         break  # early stopping, by hand" in module
    assert "lines 17-18" in module
    # a local module the script imports is carried into the project, and the project trains and matches
    assert result.carried == ["netdefs.py"] and (result.path / "netdefs.py").read_text() == NETDEFS
    proc = run(FIT, cwd=result.path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert compare(early_stop, result.path, [], steps=4).match


def test_seed_zero_reaches_the_project(tmp_path):
    script = tmp_path / "seed0.py"
    script.write_text((SCRIPTS / "p2_module_level.py").read_text().replace("torch.manual_seed(4)", "torch.manual_seed(0)"))
    result = refactor_script(script, output=tmp_path / "seed0")
    assert compare(script, result.path, [], steps=3).match


FIT_FUNCTION = '''import torch
from torch import nn


def fit(model, loader, optimizer, epochs):
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(9)
    x = torch.randn(64, 3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8, shuffle=True)
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, loader, optimizer, epochs=3)


if __name__ == "__main__":
    main()
'''


def test_loop_function_with_parameters_called_from_main(tmp_path):
    """`fit(model, loader, optimizer, epochs=3)` from main(): main's set-up is found and `epochs=3` is max_epochs."""
    script = tmp_path / "fit_function.py"
    script.write_text(FIT_FUNCTION)
    result = refactor_script(script, output=tmp_path / "ff")
    assert "max_epochs: 3" in (result.path / "configs" / "default.yaml").read_text()
    assert "## Names to check" not in result.report
    assert compare(script, result.path, [], steps=4).match
