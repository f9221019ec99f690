from traveler.core.registry import MenuItem, Panel, add_menu_item, add_panel, declare_menu_section

declare_menu_section("Records", 10)
declare_menu_section("Administration", 80)
declare_menu_section("Account", 90)

add_menu_item(MenuItem("core", "Companies", "core:company-list", "core.view_company", "Records", 50, "building"))
add_menu_item(MenuItem("core", "My approvals", "core:approval-inbox", "core.view_approvals", "Records", 5, "check"))
add_menu_item(MenuItem("core", "Approval templates", "core:approvaltemplate-list", "core.manage_approval_templates",
                       "Administration", 35, "shield"))
add_menu_item(MenuItem("core", "Documents", "core:document-list", "core.view_documents", "Records", 60, "document"))
add_menu_item(MenuItem("core", "Users", "core:user-list", "core.view_user", "Administration", 10, "users"))
add_menu_item(MenuItem("core", "Roles", "core:role-list", "core.view_role", "Administration", 20, "shield"))
add_menu_item(MenuItem("core", "Modules", "core:module-list", "core.manage_modules", "Administration", 30, "toggle"))
add_menu_item(MenuItem("core", "Jobs", "core:job-list", "core.view_jobs", "Administration", 40, "queue"))
add_menu_item(MenuItem("core", "Notifications", "core:notification-list", None, "Account", 5, "bell"))
add_menu_item(MenuItem("core", "API tokens", "core:token-list", None, "Account", 10, "key"))
add_menu_item(MenuItem("core", "Change password", "core:password-change", None, "Account", 20, "lock"))


def _template_approvers(request, obj) -> str:
    from traveler.core.ui.approval_templates import template_approvers_panel

    return template_approvers_panel(request, obj)


add_panel(Panel("core", "core.approvaltemplate.detail", "Default approvers", _template_approvers, "core.view_approvals", 10))
