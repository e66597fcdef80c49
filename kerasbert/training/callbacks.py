"""Keras callbacks for fine-tuning encoders (the tf-keras road)."""

import logging

from kerasbert._backend import keras

logger = logging.getLogger(__name__)


class GradualUnfreezing(keras.callbacks.Callback):
    """Open one more transformer block per epoch, from the top (ULMFiT style).

    Args:
        encoder_name: the name of the model's `TransformerEncoder` layer.
        initial_blocks: blocks trained in the first epoch; epoch e (0-based)
            trains the top `initial_blocks + e` blocks, plus every layer above.
        verbose: log each change of the trainable set.

    The optimizer is built for every encoder weight at the start, so blocks
    opened later find their slots, and the train function is rebuilt each
    time the set of trainable weights changes.

    Example:
        >>> model.fit(dataset, epochs=4, callbacks=[kerasbert.GradualUnfreezing(initial_blocks=1)])
    """

    def __init__(self, encoder_name="encoder", initial_blocks=0, verbose=1):
        super().__init__()
        self.encoder_name = encoder_name
        self.initial_blocks = int(initial_blocks)
        self.verbose = verbose

    def _encoder(self):
        return self.model.get_layer(self.encoder_name)

    def on_train_begin(self, logs=None):
        # Slots for every weight that may become trainable, created up front.
        variables = {id(v): v for v in self.model.trainable_variables}
        variables.update({id(v): v for v in self._encoder().weights})
        self.model.optimizer.build(list(variables.values()))

    def on_epoch_begin(self, epoch, logs=None):
        encoder = self._encoder()
        blocks = min(self.initial_blocks + epoch, encoder.num_layers)
        if encoder.mode == "top_k" and encoder.top_k == blocks:
            return
        encoder.set_top_k(blocks)
        self.model.train_function = None
        self.model.make_train_function(force=True)
        if self.verbose:
            logger.info("GradualUnfreezing: epoch %d trains the top %d block(s)", epoch + 1, blocks)
