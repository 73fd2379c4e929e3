"""CascadeNet's library. Importing it turns TensorFlow's oneDNN kernels on where the user has
not chosen (models.cpu.default_onednn): every entry script, benchmark and test imports this
package before TensorFlow, so this is the one place that setting is made."""
from models import cpu

cpu.default_onednn()
