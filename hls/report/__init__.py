"""The latency/resource dashboard (`make report`), in the spirit of hls4ml's report package:

    discover.py   what build/ holds, read through each schema's owner, cross-file checks
    points.py     accuracy against synthesised or estimated resources, Pareto fronts
    plots.py      the PNG plots (matplotlib)
    render.py     the HTML page (templates/page.html, templates/style.css)
    browser.py    headless Chromium screenshots
    build.py      build_dashboard() and the command line (python -m hls.report)

Importing it needs neither TensorFlow nor hls4ml.
"""
