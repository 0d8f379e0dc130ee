class HTML:
    def __init__(self, *a, **k):
        pass


def display(*a, **k):
    pass
