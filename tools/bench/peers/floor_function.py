"""The framework's floor for `make bench`: a Functions Framework function that reads the body and answers a
constant. No function on the same framework can answer faster, so ours is measured against it."""

import functions_framework


@functions_framework.http
def predict(request):
    """Read the body, answer a constant."""
    request.get_data()
    return {"prediction": "Adelie"}
