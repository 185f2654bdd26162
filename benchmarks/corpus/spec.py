"""The training recipe of one corpus case, as plain data (no Keras import)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Which model families can read which input layout.
FAMILIES = {"vector": ("linear", "mlp"), "image": ("linear", "mlp", "cnn2d"),
            "signal": ("mlp", "cnn1d"), "tokens": ("embed", "gru")}


@dataclass
class Spec:
    """Model, optimiser, schedule, regularisation, labels and metrics of one run."""

    family: str = "mlp"
    width: int = 2
    depth: int = 2
    dropout: float = 0.0
    batchnorm: bool = False
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    clipnorm: float = 0.0
    schedule: str = "constant"      # constant | cosine | plateau | step (x0.1 at 2/3)
    decay_steps: int = 1000
    epochs: int = 20
    batch_size: int = 32
    early_stopping: bool = False
    patience: int = 4
    class_weight: bool = False
    labels: str = "sparse"          # sparse | onehot | binary
    output: str = "softmax"         # softmax | sigmoid | linear (logits)
    from_logits: bool = False
    metrics: list[str] = field(default_factory=lambda: ["accuracy"])
    init_scale: float = 1.0         # hidden kernels' std relative to He init
    hidden_bias: float = 0.0
    always_dropout: float = 0.0     # dropout that stays on at evaluation
    bn_always_training: bool = False
    input_noise: float = 0.0        # GaussianNoise std on the inputs, training only

    def regularisation(self) -> str:
        """The regularisation flags, e.g. 'dropout+bn+es+cw' or 'none'."""
        flags = [name for name, on in (("dropout", self.dropout > 0), ("bn", self.batchnorm),
                                       ("es", self.early_stopping), ("cw", self.class_weight),
                                       ("noise", self.input_noise > 0))
                 if on]
        return "+".join(flags) or "none"

    def set_binary(self, binary: bool) -> None:
        """Sigmoid output with binary labels, or back to a softmax over sparse labels."""
        if binary:
            self.labels, self.output = "binary", "sigmoid"
        elif self.labels == "binary":
            self.labels, self.output = "sparse", "softmax"
