"""A small web tool over ``dentpy``: upload images and masks, train a segmenter from a
validated config, watch its progress, infer, view and download the results.

One idea per module: :mod:`~dentpy.serve.validate` checks uploads, :mod:`~dentpy.serve.config`
holds the training config, :mod:`~dentpy.serve.segmenter` trains and applies the model,
:mod:`~dentpy.serve.jobs` keeps datasets and jobs on disk and runs them in order,
:mod:`~dentpy.serve.app` holds the HTTP routes and the page, :mod:`~dentpy.serve.server` starts
and stops the real server on 127.0.0.1.
"""
