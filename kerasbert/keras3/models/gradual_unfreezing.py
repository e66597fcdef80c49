"""Gradual unfreezing (ULMFiT) on Keras 3: one more top block trains each epoch.

The tf-keras road's callback (`kerasbert.training.callbacks`) builds the
optimizer once for every encoder weight. A Keras 3 optimizer cannot do that:
its stateless step takes exactly the variables it was built for, in order. So
when the trainable set grows, this callback builds a fresh optimizer of the
same configuration for the new set and carries every slot (Adam's moments,
the step count) over by variable path, so the blocks that already trained
keep their state and only the newly opened ones start from zero.
"""

import logging

import keras

logger = logging.getLogger(__name__)

__all__ = ["GradualUnfreezing"]


def _slot_key(variable, optimizer_name):
    """A variable's path without the optimizer's own name (a rebuilt optimizer may be named anew)."""
    path = variable.path
    return path[len(optimizer_name) + 1:] if path.startswith(optimizer_name + "/") else path


class GradualUnfreezing(keras.callbacks.Callback):
    """Open one more transformer block per epoch, from the top: epoch e (0-based) trains the top
    `initial_blocks + e` blocks of the layer `encoder_name`, and everything above it (the arguments of the
    tf-keras road's `kerasbert.GradualUnfreezing`).

    Example:
        >>> model.fit(batches, epochs=4, callbacks=[GradualUnfreezing(initial_blocks=1)])
    """

    def __init__(self, encoder_name="encoder", initial_blocks=0, verbose=1):
        super().__init__()
        self.encoder_name = encoder_name
        self.initial_blocks = int(initial_blocks)
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        encoder = self.model.get_layer(self.encoder_name)
        blocks = min(self.initial_blocks + epoch, encoder.num_layers)
        if encoder.mode == "top_k" and encoder.top_k == blocks:
            return
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:
            sync()  # the JAX trainer holds the latest values outside the variables until synced
        encoder.set_top_k(blocks)
        self._rebuild_optimizer()
        if self.verbose:
            logger.info("GradualUnfreezing: epoch %d trains the top %d block(s)", epoch + 1, blocks)

    def _rebuild_optimizer(self):
        old = self.model.optimizer
        if not old.built:  # before the first step: Keras builds it for the current set
            return
        new = keras.optimizers.deserialize(keras.optimizers.serialize(old))
        new.build(self.model.trainable_variables)
        slots = {_slot_key(v, old.name): v for v in old.variables}
        for variable in new.variables:
            previous = slots.get(_slot_key(variable, new.name))
            if previous is not None and tuple(previous.shape) == tuple(variable.shape):
                variable.assign(previous)
        self.model.optimizer = new
        self.model.train_function = None  # traced for the old variable lists
        self.model.make_train_function(force=True)
