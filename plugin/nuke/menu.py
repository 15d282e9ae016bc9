# adamatte for Nuke: the toolbar entry adamatte > AdaMatte.
import nuke

import adamatte_nodes.nuke_node  # noqa: F401  (the toolbar command below runs in this namespace)

toolbar = nuke.menu("Nodes").addMenu("adamatte")
toolbar.addCommand("AdaMatte", "adamatte_nodes.nuke_node.create_node()")
