"""Training and validation of the approachability model (not used by the running bot).

Imported only by the two commands ``python -m bot.match.train`` and
``python -m bot.match.evaluate``. Everything here except ``fit`` and ``validation`` (which need
scikit-learn, installed by the ``train`` dependency group) runs on NumPy alone; the bot itself
serves the model from its shipped coefficients (:mod:`bot.match.approachability`).
"""
