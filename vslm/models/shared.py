"""What every model shares: the byte vocabulary and the two size keys (their meaning per model in
the help text)."""
from ..keys import Key, upto

VOCAB = 256  # bytes
LAYERS = Key("l", upto(256), "number of layers")
WIDTH = Key("ch", upto(8192), "channels (conv), hidden size (lstm), d_model (mamba)")
