"""Helpers shared by the tests (importable with --import-mode=importlib: conftest.py puts this
folder on sys.path): AITRIOS sample rows, CSVs and config trees."""

from __future__ import annotations

import json


def _obj(l, t, r, b, s=0.9, c=0):
    return {"class_id": c, "bounding_box": {"left": l, "top": t, "right": r, "bottom": b}, "score": s}


def _row(objs):
    return json.dumps({"perception": {"object_detection_list": objs}})


def _csv(path, cells, header="0,1,2,3,4,5,6,7,8,9", eol="\r\n"):
    lines = [header]
    for i, c in enumerate(cells):
        lines.append(f'{i},"' + c.replace('"', '""') + '"')
    path.write_text(eol.join(lines) + eol, encoding="utf-8")
    return path


PARAM = """\
number_of_add_grid : 1
last_valid_frame : 600
image_size_h : 1920
image_size_v : 1080
grid_num_h : 60
grid_num_v : 36
bbox2pix : True
"""

APP = """\
data_source_settings:
  mode: "local"
  console_data_settings:
    setting_path: "./config/console_access_settings.yaml"
    device_id: "__device_id__"
    sub_directory_name: "__sub_directory_name__"
    first_timestamp: "__last_timestamp__"
    last_timestamp: "__last_timestamp__"
    number_of_inference_results: 20
    number_of_images: 20
  local_data_settings:
    video_file: ""
    meta_file: "./input/sample.csv"
heat_map_settings:
  param_file: "./config/local_default_param.yaml"
output_settings:
  output_dir: "output"
  output_video_fps: 30
  output_video_width: 320
  output_video_height: 180
  cmap: "Reds"
  cbar: false
  min: 0
  max: 0
  overlay: true
  transparency: 0.4
"""


def make_sample_tree(root, csv_text=None, app=APP, param=PARAM):
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "input").mkdir(exist_ok=True)
    (root / "config" / "heat_map_app.yaml").write_text(app)
    (root / "config" / "local_default_param.yaml").write_text(param)
    if csv_text is not None:
        (root / "input" / "sample.csv").write_text(csv_text)
    return root / "config" / "heat_map_app.yaml"
