"""Training: fit the XGBoost model on Palmer Penguins, evaluate it, write and publish the artifact."""

import os
import sys

# Training imports the serving package (its encoding and artifact format) from function/, which is
# deployed on its own and so cannot be an installed dependency of this one.
_FUNCTION_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "function")
if _FUNCTION_DIR not in sys.path:
    sys.path.insert(0, _FUNCTION_DIR)
