"""Which column of the file holds which customer field, recognised from Chinese or English headers.

Headers are compared after folding (full-width → half-width, case, spaces) and without what
templates often add around them: a ``*`` for required columns and notes in brackets such as
``电话（必填）`` or ``Amount (CNY)``. The user can correct the result on the preview page.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class ImportField:
    key: str
    label: Promise  # the column header in the template file, in the user's language
    aliases: tuple[str, ...]


# Translators: the column headers of the customer import template and the preview's mapping.
FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "name",
        pgettext_lazy("import column", "Customer name"),
        (
            "客户名称",
            "客户名",
            "名称",
            "全称",
            "公司名称",
            "企业名称",
            "单位名称",
            "客户全称",
            "姓名",
            "客户姓名",
            "name",
            "customername",
            "customer",
            "company",
            "companyname",
            "fullname",
        ),
    ),
    ImportField(
        "kind",
        pgettext_lazy("import column", "Customer type"),
        ("客户类型", "类型", "客户类别", "kind", "type", "customertype", "customerkind"),
    ),
    ImportField(
        "industry",
        pgettext_lazy("import column", "Industry"),
        ("所属行业", "行业", "industry"),
    ),
    ImportField(
        "employee_band",
        pgettext_lazy("import column", "Company size"),
        (
            "企业规模",
            "公司规模",
            "规模",
            "人数",
            "员工人数",
            "员工规模",
            "size",
            "companysize",
            "employees",
            "employeeband",
            "headcount",
        ),
    ),
    ImportField(
        "revenue_band",
        pgettext_lazy("import column", "Annual revenue"),
        (
            "年营业额",
            "营业额",
            "年营收",
            "营收",
            "年收入",
            "revenue",
            "annualrevenue",
            "revenueband",
            "turnover",
        ),
    ),
    ImportField(
        "contact_name",
        pgettext_lazy("import column", "Contact"),
        ("联系人", "联系人姓名", "主联系人", "contact", "contactname", "contactperson", "primarycontact"),
    ),
    ImportField(
        "contact_title",
        pgettext_lazy("import column", "Contact title"),
        ("职务", "职位", "联系人职务", "联系人职位", "title", "jobtitle", "position", "contacttitle"),
    ),
    ImportField(
        "phone",
        pgettext_lazy("import column", "Phone"),
        (
            "电话",
            "手机",
            "联系电话",
            "手机号",
            "手机号码",
            "电话号码",
            "座机",
            "联系方式",
            "phone",
            "mobile",
            "telephone",
            "tel",
            "phonenumber",
            "mobilephone",
        ),
    ),
    ImportField(
        "email",
        pgettext_lazy("import column", "E-mail"),
        ("邮箱", "电子邮件", "电子邮箱", "邮件", "email", "e-mail", "mail", "emailaddress"),
    ),
    ImportField(
        "needs",
        pgettext_lazy("import column", "Needs"),
        ("需求描述", "需求", "客户需求", "needs", "need", "requirements", "description"),
    ),
    ImportField(
        "source",
        pgettext_lazy("import column", "Source"),
        ("信息来源", "来源", "客户来源", "来源渠道", "source", "leadsource", "channel"),
    ),
    ImportField(
        "first_contact_date",
        pgettext_lazy("import column", "First contact date"),
        (
            "首次接触时间",
            "首次接触日期",
            "首次接触",
            "首次联系时间",
            "首次联系日期",
            "firstcontactdate",
            "firstcontact",
            "firstcontacted",
        ),
    ),
    ImportField(
        "region",
        pgettext_lazy("import column", "Region"),
        ("地区", "国内海外", "国内/海外", "区域", "region", "domesticoverseas"),
    ),
    ImportField(
        "province",
        pgettext_lazy("import column", "Province"),
        ("省份", "省", "省/直辖市", "province", "state"),
    ),
    ImportField("city", pgettext_lazy("import column", "City"), ("城市", "市", "city")),
    ImportField(
        "address",
        pgettext_lazy("import column", "Address"),
        ("地址", "详细地址", "联系地址", "公司地址", "address"),
    ),
    ImportField(
        "website",
        pgettext_lazy("import column", "Website"),
        ("网址", "网站", "官网", "公司网址", "website", "web", "url", "homepage"),
    ),
    ImportField(
        "notes", pgettext_lazy("import column", "Notes"), ("备注", "说明", "notes", "note", "remarks")
    ),
    ImportField(
        "expected_annual_value",
        pgettext_lazy("import column", "Expected annual value"),
        (
            "预计年合作额",
            "年合作额",
            "预计合作额",
            "年合作金额",
            "合作额",
            "预计年合作金额",
            "expectedannualvalue",
            "annualvalue",
            "expectedvalue",
            "annualcontractvalue",
        ),
    ),
    ImportField(
        "stage",
        pgettext_lazy("import column", "Stage"),
        ("阶段", "客户阶段", "生命周期", "stage", "lifecyclestage"),
    ),
    ImportField(
        "tags", pgettext_lazy("import column", "Tags"), ("标签", "客户标签", "tags", "tag", "labels")
    ),
    ImportField("gender", pgettext_lazy("import column", "Gender"), ("性别", "gender", "sex")),
    ImportField(
        "birthday",
        pgettext_lazy("import column", "Birthday"),
        ("生日", "出生日期", "birthday", "dateofbirth", "birthdate", "dob"),
    ),
    ImportField("age", pgettext_lazy("import column", "Age"), ("年龄", "age")),
    ImportField(
        "occupation", pgettext_lazy("import column", "Occupation"), ("职业", "occupation", "profession")
    ),
    ImportField(
        "owner",
        pgettext_lazy("import column", "Owner"),
        ("负责人", "客户负责人", "所属销售", "销售", "跟进人", "owner", "salesrep", "assignedto"),
    ),
)

FIELDS_BY_KEY = {field.key: field for field in FIELDS}

_BRACKETS = re.compile(r"[(\[【<][^)\]】>]*[)\]】>]")
_IGNORED = re.compile(r"[\s*:_.·\-/]+")


def fold(header: object) -> str:
    """``客户名称*``, ``电话（必填）`` and ``E-mail Address`` → ``客户名称``, ``电话``, ``emailaddress``."""
    text = unicodedata.normalize("NFKC", str(header or "")).casefold()
    text = _BRACKETS.sub("", text)
    return _IGNORED.sub("", text)


_ALIASES: dict[str, str] = {fold(alias): field.key for field in FIELDS for alias in field.aliases}


def field_for(header: object) -> str:
    """The customer field a header names, or ``""``."""
    return _ALIASES.get(fold(header), "")


def auto_mapping(headers: Sequence[object]) -> list[str]:
    """One field (or ``""``) per column; a field named twice goes to the first such column."""
    taken: set[str] = set()
    fields = []
    for header in headers:
        key = field_for(header)
        if key in taken:
            key = ""
        taken.add(key)
        fields.append(key)
    return fields


def recognised(headers: Sequence[object]) -> int:
    return sum(1 for key in auto_mapping(headers) if key)
