"""Pattern 3: a GAN, two models and two optimizers, several backward() calls before a step()."""
import argparse

import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, nz=4, nf=8):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nz, 16), nn.ReLU(), nn.Linear(16, nf))

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, nf=8):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nf, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


parser = argparse.ArgumentParser()
parser.add_argument("--nz", type=int, default=4)
parser.add_argument("--lr", type=float, default=0.0002)
parser.add_argument("--beta1", type=float, default=0.5)
parser.add_argument("--niter", type=int, default=2, help="number of epochs")
parser.add_argument("--manualSeed", type=int, default=7)
opt = parser.parse_args()

torch.manual_seed(opt.manualSeed)
real_data = torch.randn(256, 8) * 0.5 + 1.0
dataloader = torch.utils.data.DataLoader(real_data, batch_size=32, shuffle=True)

netG = Generator(opt.nz)
netD = Discriminator()
criterion = nn.BCELoss()
real_label = 1.0
fake_label = 0.0
optimizerD = torch.optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
optimizerG = torch.optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

for epoch in range(opt.niter):
    for i, data in enumerate(dataloader, 0):
        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real = data
        batch_size = real.size(0)
        label = torch.full((batch_size,), real_label)
        output = netD(real)
        errD_real = criterion(output, label)
        errD_real.backward()
        noise = torch.randn(batch_size, opt.nz)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optimizerD.step()
        # (2) update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        print("[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f" % (epoch, opt.niter, i, len(dataloader), errD.item(), errG.item()))
