from matplotlib import _Nothing as Axes3D
