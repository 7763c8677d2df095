import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))                                   # tools/bench
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'model'))   # tools/model
