"""Quality's menu: the Quality section."""

from traveler.core.registry import MenuItem, add_menu_item, declare_menu_section

declare_menu_section("Quality", 30)

add_menu_item(MenuItem("qms", "Quality reports", "qms:qualityreport-list", "qms.view_qualityreport", "Quality", 10,
                       "shield"))
add_menu_item(MenuItem("qms", "Defect codes", "qms:qualityerrorslist-list", "qms.view_qualityerrorslist", "Quality",
                       20, "alert"))
add_menu_item(MenuItem("qms", "Nonconformances", "qms:quarantinedisposition-list", "qms.view_quarantinedisposition",
                       "Quality", 15, "alert"))

add_menu_item(MenuItem("qms", "CAPAs", "qms:capa-list", "qms.view_capa", "Quality", 40, "shield"))


add_menu_item(MenuItem("qms", "3D defect maps", "qms:threedmodel-list", "qms.view_threedmodel", "Quality", 40, "chart"))


add_menu_item(MenuItem("qms", "Quality dashboard", "qms:dashboard", "qms.view_quality_dashboard", "Quality", 5,
                       "chart"))
