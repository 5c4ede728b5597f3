Bextj
locationw.binp