"""``LoggerCollection``: the 1.x way to pass several loggers as one (2.x: ``Trainer(logger=[a, b])``)."""
from typing import Any, Iterable, Iterator

from runtime.loggers.logger import Logger
from runtime.utilities.rank_zero import rank_zero_deprecation

__all__ = ["LoggerCollection"]


class LoggerCollection(Logger):
    """Forwards every call to each logger it holds; ``name`` / ``version`` join theirs with ``_``.

    Example (1.x)::

        Trainer(logger=LoggerCollection([CSVLogger("logs"), TensorBoardLogger("logs")]))
    """

    def __init__(self, logger_iterable: Iterable[Logger]) -> None:
        super().__init__()
        rank_zero_deprecation("`LoggerCollection` is the 1.x spelling; it still runs. In 2.x pass a list: "
                              "`Trainer(logger=[logger_a, logger_b])`.")
        self._logger_iterable = list(logger_iterable)

    def __getitem__(self, index: int) -> Logger:
        return self._logger_iterable[index]

    def __len__(self) -> int:
        return len(self._logger_iterable)

    def __iter__(self) -> Iterator[Logger]:
        return iter(self._logger_iterable)

    @property
    def experiment(self) -> list[Any]:
        return [logger.experiment for logger in self._logger_iterable]

    @property
    def name(self) -> str:
        return "_".join(dict.fromkeys(str(logger.name) for logger in self._logger_iterable))

    @property
    def version(self) -> str:
        return "_".join(dict.fromkeys(str(logger.version) for logger in self._logger_iterable))

    @property
    def save_dir(self) -> str | None:
        return self._logger_iterable[0].save_dir if self._logger_iterable else None

    @property
    def log_dir(self) -> str | None:
        return self._logger_iterable[0].log_dir if self._logger_iterable else None

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        for logger in self._logger_iterable:
            logger.log_metrics(metrics, step=step)

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        for logger in self._logger_iterable:
            logger.log_hyperparams(params, *args, **kwargs)

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        for logger in self._logger_iterable:
            logger.log_graph(model, input_array)

    def save(self) -> None:
        for logger in self._logger_iterable:
            logger.save()

    def finalize(self, status: str) -> None:
        for logger in self._logger_iterable:
            logger.finalize(status)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        for logger in self._logger_iterable:
            logger.after_save_checkpoint(checkpoint_callback)
