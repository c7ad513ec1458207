"""Training a network here, on the CPU: the loop (``loop``) and batch norm's statistics re-estimated from pictures
(``batchnorm``). The pictures come from :mod:`lwviz.data`; distillation and quantization-aware training in
:mod:`lwviz.compress` train through the same loop."""
