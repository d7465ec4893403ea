"""ICA decomposition, ICLabel classification and component removal.

The names of methods and classes live here, not in ``ica``, so that the step registry
and the Clean page's step picker can name them without importing the stage.
"""

METHODS = ("picard", "infomax", "fastica")

ICLABEL_CLASSES = ("brain", "muscle", "eye", "heart", "line_noise", "channel_noise", "other")
# The classes an artifact remover takes out: all but brain and other, in ICLabel's order.
ARTIFACT_CLASSES = ICLABEL_CLASSES[1:6]
# What people call each class (ICLabel's own names).
CLASS_NAMES = {
    "brain": "Brain",
    "muscle": "Muscle",
    "eye": "Eye",
    "heart": "Heart",
    "line_noise": "Line Noise",
    "channel_noise": "Channel Noise",
    "other": "Other",
}
