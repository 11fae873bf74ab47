# Roles come from Hiera (key `classes`, per machine), so the same code
# provisions Vagrant VMs and any other host given the same data.
lookup('classes', Array[String[1]], 'unique', []).include
