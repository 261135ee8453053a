// YagnaSimulator
