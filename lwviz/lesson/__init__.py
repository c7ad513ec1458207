"""The guided lesson: eleven steps through the ideas of lightweight CNNs, one idea, formula and question each.

:mod:`~lwviz.lesson.steps` holds what the steps say (catalog messages), the other modules the numbers
their formulas show, all derived from lwviz's cost model. The Lesson page (pages/lesson.py) lays them out.
"""

from lwviz.lesson.steps import CLASS_PAGE, STEPS, Step, step_number

__all__ = ["CLASS_PAGE", "STEPS", "Step", "step_number"]
