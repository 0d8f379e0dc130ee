"""Shape: the training function takes no arguments and is called from module level, and the module code after the
call loads what it saved (MorvanZhou's 304_save_reload: `save()` then `restore_net()`)."""
import torch

torch.manual_seed(0)
x = torch.linspace(-1, 1, 32).unsqueeze(1)
y = x.pow(2)


def save():
    net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_func = torch.nn.MSELoss()
    for t in range(20):
        loss = loss_func(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.save(net.state_dict(), "net_params.pkl")


def restore():
    net2 = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    net2.load_state_dict(torch.load("net_params.pkl"))
    print("restored", net2(x).mean().item())


save()
restore()
