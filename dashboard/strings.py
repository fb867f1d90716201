"""Every label the dashboard shows, Vietnamese first, English second, in one place.

Measure names and descriptions are not here: they live with the measure in
queries/metrics.py (label_vi/label_en). Everything else a user reads is here, so a
translation is one edit and a missing one fails a test instead of showing a key.
"""

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

# key -> (Vietnamese, English). Placeholders use str.format names.
TEXT: dict[str, tuple[str, str]] = {
    # Frame
    "app_title": ("Quản trị khách hàng", "Customer management"),
    "page_overview": ("Tổng quan", "Overview"),
    "page_customers": ("Khách hàng", "Customers"),
    "page_complaints": ("Khiếu nại", "Complaints"),
    "page_debt": ("Nợ cước", "Debt"),
    "page_churn": ("Rời mạng", "Churn"),
    "page_review": ("Đánh giá định kỳ", "Periodic review"),
    "language": ("Ngôn ngữ", "Language"),
    "language_vi": ("Tiếng Việt", "Tiếng Việt"),
    "language_en": ("English", "English"),
    "filters": ("Bộ lọc", "Filters"),
    "reset_filters": ("Đặt lại bộ lọc", "Reset filters"),
    "freshness": ("Dữ liệu đến hết {date}", "Data through {date}"),
    "coming_soon": (
        "Trang này đang được xây dựng. Bộ lọc ở thanh bên đã áp dụng và sẽ được giữ nguyên khi trang hoàn thành.",
        "This page is being built. The filters in the sidebar already apply and will carry over when it is ready.",
    ),
    # Filters
    "period": ("Kỳ báo cáo", "Period"),
    "comparison": ("So sánh với", "Compare with"),
    "comparison_previous": ("Kỳ trước", "Previous period"),
    "comparison_last_year": ("Cùng kỳ năm trước", "Same period last year"),
    "comparison_previous_short": ("so với kỳ trước", "vs previous period"),
    "comparison_last_year_short": ("so với cùng kỳ", "vs same period last year"),
    "region": ("Miền", "Region"),
    "provinces": ("Tỉnh/thành", "Provinces"),
    "segment": ("Nhóm khách hàng", "Segment"),
    "age_band": ("Nhóm tuổi", "Age band"),
    "plan": ("Hình thức thuê bao", "Plan"),
    "area_type": ("Khu vực", "Area type"),
    "all": ("Tất cả", "All"),
    "all_provinces": ("Toàn quốc", "Whole country"),
    "placeholder_all": ("Tất cả", "All"),
    # Accepted values (queries/tables.py)
    "region_Bắc": ("Miền Bắc", "North"),
    "region_Trung": ("Miền Trung", "Centre"),
    "region_Nam": ("Miền Nam", "South"),
    "segment_individual": ("Cá nhân", "Individual"),
    "segment_household": ("Hộ gia đình", "Household"),
    "segment_enterprise": ("Doanh nghiệp", "Enterprise"),
    "segment_government": ("Cơ quan nhà nước", "Government"),
    "segment_foreign": ("Khách nước ngoài", "Foreign"),
    "plan_prepaid": ("Trả trước", "Prepaid"),
    "plan_postpaid": ("Trả sau", "Postpaid"),
    "area_urban": ("Thành thị", "Urban"),
    "area_rural": ("Nông thôn", "Rural"),
    "area_remote": ("Vùng sâu vùng xa", "Remote"),
    "age_suffix": ("tuổi", "years"),
    # Notices and errors
    "notice_ignored_params": (
        "Đã bỏ qua tham số không hợp lệ trong đường dẫn: {items}",
        "Ignored invalid parameters in the link: {items}",
    ),
    "warehouse_down": (
        "Không kết nối được kho dữ liệu. Vui lòng thử lại sau hoặc liên hệ bộ phận kỹ thuật.",
        "The data warehouse cannot be reached. Please try again later or contact technical support.",
    ),
    "warehouse_down_detail": ("Chi tiết kỹ thuật: {detail}", "Technical detail: {detail}"),
    "warehouse_empty": (
        "Kho dữ liệu chưa có dữ liệu. Hãy nạp dữ liệu (python -m data_seed generate) rồi tải lại trang.",
        "The data warehouse holds no data yet. Load data (python -m data_seed generate) and reload the page.",
    ),
    "no_data": (
        "Không có dữ liệu cho bộ lọc đã chọn: {filters}. Hãy mở rộng bộ lọc.",
        "No data for the chosen filters: {filters}. Try widening them.",
    ),
    "no_comparison": ("không có dữ liệu kỳ so sánh", "no data for the comparison period"),
    # Overview
    "kpis": ("Chỉ số chính", "Key indicators"),
    "target": ("Mục tiêu", "Target"),
    "rag_green": ("Đạt mục tiêu", "On target"),
    "rag_amber": ("Gần mục tiêu", "Close to target"),
    "rag_red": ("Chưa đạt mục tiêu", "Off target"),
    "trend_12m": ("Xu hướng 12 tháng", "12-month trend"),
    "map_title": ("Bản đồ theo tỉnh/thành", "Map by province"),
    "map_measure": ("Tô màu theo chỉ số", "Colour by indicator"),
    "map_pick_province": ("Chọn tỉnh/thành để lọc", "Choose a province to filter"),
    "map_hint": (
        "Bấm vào một tỉnh trên bản đồ (hoặc chọn trong danh sách) để lọc toàn bộ bảng điều khiển.",
        "Click a province on the map (or choose it from the list) to filter the whole dashboard.",
    ),
    "map_no_province": ("— không chọn —", "— none —"),
    "bubble_size_note": ("Kích thước: số khách hàng đang hoạt động", "Size: active customers"),
    "what_changed": ("Điểm thay đổi nổi bật", "What changed"),
    "what_changed_none": (
        "Không có thay đổi đáng kể so với kỳ so sánh.",
        "No notable change against the comparison period.",
    ),
    "change_sentence_up": (
        "{measure} {where} tăng từ {before} lên {after} ({delta}).",
        "{measure} {where} rose from {before} to {after} ({delta}).",
    ),
    "change_sentence_down": (
        "{measure} {where} giảm từ {before} xuống {after} ({delta}).",
        "{measure} {where} fell from {before} to {after} ({delta}).",
    ),
    "in_province": ("tại {province}", "in {province}"),
    "in_segment": ("của nhóm {segment}", "for {segment} customers"),
    "breakdown_by": ("{measure} theo {dimension}", "{measure} by {dimension}"),
    "province": ("Tỉnh/thành", "Province"),
    "month": ("Tháng", "Month"),
    "value": ("Giá trị", "Value"),
    "kpi_table": ("Bảng số liệu chỉ số", "KPI table"),
    "indicator": ("Chỉ số", "Indicator"),
    "this_period": ("Kỳ này", "This period"),
    "comparison_period": ("Kỳ so sánh", "Comparison period"),
    "change": ("Thay đổi", "Change"),
    "assessment": ("Đánh giá", "Assessment"),
    "download_csv": ("Tải CSV", "Download CSV"),
    "download_excel": ("Tải Excel", "Download Excel"),
    # Units used in deltas and values
    "unit_pp": ("điểm %", "pp"),
    "unit_points": ("điểm", "pts"),
    "unit_hours": ("giờ", "h"),
    "unit_days": ("ngày", "days"),
    "unit_seconds": ("giây", "s"),
    # Login and access (dashboard/login.py, dashboard/roles.py)
    "login_title": ("Đăng nhập", "Log in"),
    "login_username": ("Tên đăng nhập", "Username"),
    "login_password": ("Mật khẩu", "Password"),
    "login_submit": ("Đăng nhập", "Log in"),
    "login_missing": ("Hãy nhập tên đăng nhập và mật khẩu.", "Enter your username and password."),
    "login_invalid": ("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password."),
    "login_locked": (
        "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {minutes} phút.",
        "Too many failed attempts. Try again in {minutes} minutes.",
    ),
    "login_expired": (
        "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.",
        "Your session has expired. Please log in again.",
    ),
    "login_sso": ("Đăng nhập bằng tài khoản công ty", "Log in with your company account"),
    "login_sso_refused": (
        "Tài khoản {email} chưa được cấp quyền xem bảng điều khiển. Hãy liên hệ quản trị viên.",
        "The account {email} has no access to the dashboard. Ask an administrator.",
    ),
    "login_users_file_error": (
        "Không đọc được danh sách người dùng. Hãy liên hệ quản trị viên.",
        "The list of users cannot be read. Contact an administrator.",
    ),
    "logout": ("Đăng xuất", "Log out"),
    "role_executive": ("Lãnh đạo", "Executive"),
    "role_analyst": ("Chuyên viên phân tích", "Analyst"),
    "role_regional_manager": ("Quản lý khu vực", "Regional manager"),
    "role_viewer": ("Người xem", "Viewer"),
    "role_admin": ("Quản trị", "Administrator"),
}


def t(key: str, lang: str, **values: object) -> str:
    """The label for key in lang (falls back to Vietnamese), with placeholders filled."""
    vi, en = TEXT[key]
    text = en if lang == "en" else vi
    return text.format(**values) if values else text


def value_label(prefix: str, value: str, lang: str) -> str:
    """Label of an accepted value (segment, plan, area, region); the raw value if unknown."""
    key = f"{prefix}_{value}"
    return t(key, lang) if key in TEXT else value


def age_band_label(band: str, lang: str) -> str:
    return f"{band} {t('age_suffix', lang)}"
