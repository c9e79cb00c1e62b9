print("learnsync")
