from traveler.core.registry import MenuItem, add_menu_item

add_menu_item(MenuItem("core", "Companies", "core:company-list", "core.view_company", "Records", 50))
add_menu_item(MenuItem("core", "Users", "core:user-list", "core.view_user", "Administration", 10))
add_menu_item(MenuItem("core", "Roles", "core:role-list", "core.view_role", "Administration", 20))
add_menu_item(MenuItem("core", "Modules", "core:module-list", "core.manage_modules", "Administration", 30))
add_menu_item(MenuItem("core", "Jobs", "core:job-list", "core.view_jobs", "Administration", 40))
add_menu_item(MenuItem("core", "API tokens", "core:token-list", None, "Account", 10))
