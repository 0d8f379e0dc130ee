"""Shape: a reinforcement-learning agent whose learn() method calls backward, from a `while` loop (MorvanZhou's
405_DQN): refused, naming the method and the loop."""
import torch
import torch.nn as nn


class Agent:
    def __init__(self):
        self.net = nn.Linear(4, 2)
        self.opt = torch.optim.Adam(self.net.parameters())

    def learn(self, s):
        loss = self.net(s).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


agent = Agent()
for episode in range(3):
    steps = 0
    while True:
        agent.learn(torch.randn(1, 4))
        steps += 1
        if steps > 5:
            break
