"""Offline stand-in for matplotlib (corpus runs only): every call does nothing."""


class _Nothing:
    def __init__(self, *a, **k):  # also stands in for classes (`Axes3D(fig)`)
        pass

    def __call__(self, *a, **k):
        return _Nothing()

    def __getattr__(self, name):
        return _Nothing()

    def __iter__(self):
        return iter([_Nothing(), _Nothing()])

    def __getitem__(self, i):
        return _Nothing()


def use(*a, **k):
    pass


def __getattr__(name):
    return _Nothing()
