//! Placeholder: the tfplugin6 protocol layer lands here.
