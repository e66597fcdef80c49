"""Keras callbacks for fine-tuning encoders."""

from kerasbert._backend import keras


class GradualUnfreezing(keras.callbacks.Callback):
    """Open one more transformer block per epoch, from the top (ULMFiT style).

    Epoch e (0-based) trains the top `initial_blocks + e` blocks of the
    `TransformerEncoder` named `encoder_name`, plus every layer above it.
    The optimizer is built for all encoder weights at the start, so blocks
    opened later find their slots, and the train function is rebuilt each
    time the set of trainable weights changes.
    """

    def __init__(self, encoder_name="encoder", initial_blocks=0, verbose=1):
        super().__init__()
        self.encoder_name = encoder_name
        self.initial_blocks = int(initial_blocks)
        self.verbose = verbose

    def _encoder(self):
        return self.model.get_layer(self.encoder_name)

    def on_train_begin(self, logs=None):
        encoder = self._encoder()
        # Slots for every weight that may become trainable, created up front.
        variables = {id(v): v for v in self.model.trainable_variables}
        variables.update({id(v): v for v in encoder.transformer.weights})
        self.model.optimizer.build(list(variables.values()))

    def on_epoch_begin(self, epoch, logs=None):
        encoder = self._encoder()
        blocks = min(self.initial_blocks + epoch, len(encoder.transformer_blocks()))
        if encoder.mode == "top_k" and encoder.top_k == blocks:
            return
        encoder.set_top_k(blocks)
        self.model.train_function = None
        self.model.make_train_function(force=True)
        if self.verbose:
            print("GradualUnfreezing: epoch %d trains the top %d block(s)" % (epoch + 1, blocks))
