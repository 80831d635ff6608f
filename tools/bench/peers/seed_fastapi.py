"""The seed README's design, as that README describes it: the peer the project set out to beat.

FastAPI on uvicorn; Pydantic Enums and range checks; pandas one-hot encoding; XGBClassifier.predict.
It fits its own model on Palmer Penguins at first start and keeps it in the temporary folder, so later
starts only load it. Serve from this folder, in the seed peer venv (`make peers`):

    .venv-peers/seed/bin/uvicorn seed_fastapi:app --port 8001
"""

import tempfile
from enum import Enum
from pathlib import Path

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel, Field
from xgboost import XGBClassifier

SPECIES = ["Adelie", "Chinstrap", "Gentoo"]
NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
# One-hot columns in a fixed order; MLServer's peer is sent rows in this order too.
COLUMNS = [*NUMERIC, "sex_female", "sex_male", "island_Biscoe", "island_Dream", "island_Torgersen"]
MODEL_FILE = Path(tempfile.gettempdir()) / "penguin-peer-seed-model.json"


class Island(str, Enum):
    Biscoe = "Biscoe"
    Dream = "Dream"
    Torgersen = "Torgersen"


class Sex(str, Enum):
    female = "female"
    male = "male"


class Penguin(BaseModel):
    bill_length_mm: float = Field(ge=30, le=60)
    bill_depth_mm: float = Field(ge=10, le=25)
    flipper_length_mm: int = Field(ge=170, le=240)
    body_mass_g: int = Field(ge=2500, le=7000)
    year: int = Field(ge=2007, le=2009)
    sex: Sex
    island: Island


def one_hot(frame: pd.DataFrame) -> pd.DataFrame:
    """The seed's encoding: pandas dummies for sex and island, in COLUMNS' order, as floats."""
    encoded = pd.get_dummies(frame[[*NUMERIC, "sex", "island"]], columns=["sex", "island"])
    return encoded.reindex(columns=COLUMNS, fill_value=0).astype(float)


def fitted_model() -> XGBClassifier:
    """The model from the temporary folder, fitted there first if this is the first start."""
    model = XGBClassifier()
    if MODEL_FILE.exists():
        model.load_model(MODEL_FILE)
        return model
    from palmerpenguins import load_penguins

    birds = load_penguins().dropna()
    model = XGBClassifier(n_estimators=100, max_depth=4, random_state=0)
    model.fit(one_hot(birds), birds["species"].map(SPECIES.index))
    model.save_model(MODEL_FILE)
    return model


model = fitted_model()
app = FastAPI(title="Penguin Species Classification API", version="1.0.0")


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/predict")
async def predict(penguin: Penguin):
    frame = pd.DataFrame([penguin.model_dump(mode="json")])
    return {"prediction": SPECIES[int(model.predict(one_hot(frame).values)[0])]}
