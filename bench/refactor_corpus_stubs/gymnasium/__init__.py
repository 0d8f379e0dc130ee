"""Offline stand-in for gymnasium's CartPole (corpus runs only): random 4-d observations, episodes of 8-20 steps."""
import random as _random

import numpy as np

OLD_API = False


class _Space:
    def __init__(self, n=None, shape=None):
        self.n, self.shape = n, shape

    def sample(self):
        return _random.randrange(self.n)


class _Spec:
    reward_threshold = 475.0
    max_episode_steps = 500


class CartPole:
    x_threshold = 2.4
    theta_threshold_radians = 0.21

    def __init__(self, old_api):
        self.old_api = old_api
        self.observation_space = _Space(shape=(4,))
        self.action_space = _Space(n=2)
        self.spec = _Spec()
        self.rng = np.random.default_rng(0)
        self.unwrapped = self

    def reset(self, seed=None, **k):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.t, self.length = 0, int(self.rng.integers(8, 20))
        obs = self.rng.standard_normal(4).astype(np.float32) * 0.05
        self.state = obs
        return obs if self.old_api else (obs, {})

    def seed(self, s=None):
        self.rng = np.random.default_rng(s)

    def step(self, action):
        self.t += 1
        obs = self.rng.standard_normal(4).astype(np.float32) * 0.05
        self.state = obs
        done = self.t >= self.length
        return (obs, 1.0, done, {}) if self.old_api else (obs, 1.0, done, False, {})

    def render(self, *a, **k):
        pass

    def close(self):
        pass


def make(name, *a, **k):
    return CartPole(OLD_API)
