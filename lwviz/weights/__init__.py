"""Where weights come from: an offline package, torchvision's hub cache, a user's checkpoint.

Every source has one interface (:class:`WeightSource`): ``spec``, ``preprocess``, ``categories``,
``is_available()`` (offline check) and ``load(progress)`` -> an eval-mode builder model.
"""

from lwviz.weights.base import DownloadProgress, WeightSource, WeightsUnavailable
from lwviz.weights.checkpoint import CheckpointError, CheckpointSource, load_checkpoint, read_state_dict
from lwviz.weights.offline import LITE0, class_names_for, imagenet_categories
from lwviz.weights.sources import SOURCES, available_sources, best_offline_source, get_source, sources_for

__all__ = [
    "LITE0",
    "SOURCES",
    "CheckpointError",
    "CheckpointSource",
    "DownloadProgress",
    "WeightSource",
    "WeightsUnavailable",
    "available_sources",
    "best_offline_source",
    "class_names_for",
    "get_source",
    "imagenet_categories",
    "load_checkpoint",
    "read_state_dict",
    "sources_for",
]
