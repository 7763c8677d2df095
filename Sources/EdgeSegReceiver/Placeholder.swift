// EdgeSegReceiver: placeholder until its owner lands the first file.
