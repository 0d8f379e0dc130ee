from matplotlib import _Nothing


def subplots(*a, **k):
    return _Nothing(), _Nothing()


def __getattr__(name):
    return _Nothing()
