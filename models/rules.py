"""条例 rules checked on a spec against the directory, before anything is written.

Each rule names the clause it implements and, when broken, raises InputError
naming the field:

- every issuer, recipient, printer and approver is in the directory;
- 发文机关 can number documents: the lead issuer has a 机关代字 (GB/T 9704 §7.2.5);
- 联合行文 (条例 第十七条): the issuers are of the same level, and the number uses
  the lead issuer's code;
- 主送机关 (GB/T 9704 §7.3.2): present except for 文种 that address the public;
- 请示 (条例 第十五条(二)): exactly one 主送机关, and a 签发人 (approval.sign);
- 上行文 (条例 第十五条(四)): no 抄送 to a subordinate agency of the issuer;
- 附件 titles end without punctuation (GB/T 9704 §7.3.4);
- 密级 with 保密期限 and 份号 (GB/T 9704 §7.2.1–7.2.2): a 保密期限 needs a 密级,
  a secret document needs a 份号;
- dates: 印发日期 not before 成文日期;
- ``ref`` is only for rendering an issued document, never for a new draft, and its
  机关代字 is the lead issuer's (GB/T 9704 §7.2.5).

``route_for`` gives the 审批路径: the spec's approval, else the directory's people
with the role in the issuing agencies and their offices (an explicit empty
``review`` list skips 核稿; 会签 parties are only ever named in the spec).
"""

from __future__ import annotations

from models.authorization import check_role
from models.directory import Agency, Directory
from models.errors import InputError, NotFound, RefusedDecision
from models.lifecycle import Route
from models.spec import DocumentSpec
from models.vocabulary import DIRECTIONS, WITHOUT_MAIN_RECIPIENT, Direction, DocType, Role

_TRAILING_PUNCTUATION = tuple("。，；：、,.;:!?！？…")


def check_spec(spec: DocumentSpec, directory: Directory, *, for_render: bool = False) -> None:
    """Apply every 条例 rule to a spec; raise InputError naming the first broken field."""
    issuers = _issuers(spec, directory)
    if not for_render and spec.ref is not None:
        raise InputError("发文字号在登记时自动编号，草稿中不能填写", "ref")
    if issuers[0].code is None:
        raise InputError(f"「{issuers[0].name}」没有机关代字，不能编发文字号", "issuer[0]")
    if spec.reference is not None and spec.reference.code != issuers[0].code:
        raise InputError(
            f"发文字号的机关代字「{spec.reference.code}」不是主办机关「{issuers[0].name}」的「{issuers[0].code}」",
            "ref",
        )
    _same_level(issuers, directory)
    for key in ("to", "cc_report", "cc"):
        for i, name in enumerate(getattr(spec, key)):
            directory.expand(name, f"{key}[{i}]")
    if spec.printer is not None:
        directory.agency(spec.printer, "printer")
    _main_recipients(spec, directory)
    if direction(spec, directory) is Direction.UPWARD:
        _no_copy_downward(spec, directory, issuers)
    for i, attachment in enumerate(spec.attachments):
        if attachment.title.endswith(_TRAILING_PUNCTUATION):
            raise InputError("附件名称后不加标点符号", f"attachments[{i}].title")
    if spec.secret_term is not None and spec.secret is None:
        raise InputError("标注保密期限时须同时标注密级（secret）", "secret_term")
    if spec.secret is not None and spec.copy_no is None:
        raise InputError("涉密公文应当标注份号", "copy_no")
    if spec.date and spec.print_date and spec.print_date < spec.date:
        raise InputError("印发日期不能早于成文日期", "print_date")
    route_for(spec, directory)


def direction(spec: DocumentSpec, directory: Directory) -> Direction:
    """行文方向 of a document: fixed by its 文种, or for 意见 and 纪要 by the recipients.

    Upward when every 主送 agency is a superior of the lead issuer, lateral when
    the 文种 allows it and none is a subordinate, downward otherwise.
    """
    allowed = DIRECTIONS[spec.doc_type]
    if len(allowed) == 1:
        return next(iter(allowed))
    lead = directory.agency(spec.lead_issuer, "issuer[0]")
    recipients = [item for name in spec.to for item in directory.expand(name) if isinstance(item, Agency)]
    if Direction.UPWARD in allowed and recipients and all(directory.is_subordinate(lead, r) for r in recipients):
        return Direction.UPWARD
    if Direction.LATERAL in allowed and not any(directory.is_subordinate(r, lead) for r in recipients):
        return Direction.LATERAL
    return Direction.DOWNWARD


def route_for(spec: DocumentSpec, directory: Directory) -> Route:
    """审批路径 with every person checked: in the directory and holding the step's role."""
    approval = spec.approval
    issuing = {directory.agency(name).name for name in spec.issuer}
    issuing |= {a.name for a in directory.agencies if a.parent in issuing}
    if approval is not None and "review" in approval.model_fields_set:
        review = tuple(approval.review)  # an explicit empty list skips 核稿
    else:
        review = tuple(p.name for p in directory.people_with(Role.REVIEWER, issuing))
    cosign = tuple(approval.cosign) if approval is not None else ()
    if approval is not None and approval.sign:
        sign = approval.sign
    else:
        signers = directory.people_with(Role.SIGNER, issuing)
        if len(signers) != 1:
            names = "、".join(p.name for p in signers) or "无"
            raise InputError(f"无法确定签发人（可选：{names}），请在 approval.sign 中指定", "approval.sign")
        sign = signers[0].name
    for key, names, role in (
        ("review", review, Role.REVIEWER),
        ("cosign", cosign, Role.COSIGNER),
        ("sign", (sign,), Role.SIGNER),
    ):
        for i, name in enumerate(names):
            where = f"approval.{key}" if key == "sign" else f"approval.{key}[{i}]"
            person = directory.person(name, where)
            if not person.has_role(role):
                raise InputError(f"「{name}」没有{_ROLE_LABELS[role]}权限", where)
        if len(set(names)) != len(names):
            raise InputError("同一人不能重复出现", f"approval.{key}")
    return Route(review=review, cosign=cosign, sign=sign)


_ROLE_LABELS = {Role.REVIEWER: "核稿", Role.COSIGNER: "会签", Role.SIGNER: "签发"}


def _issuers(spec: DocumentSpec, directory: Directory) -> list[Agency]:
    issuers = [directory.agency(name, f"issuer[{i}]") for i, name in enumerate(spec.issuer)]
    names = [a.name for a in issuers]
    if len(set(names)) != len(names):
        raise InputError("联合行文的发文机关重复", "issuer")
    return issuers


def _same_level(issuers: list[Agency], directory: Directory) -> None:
    """联合行文 (条例 第十七条): only agencies of the same level issue jointly."""
    lead_level = directory.level(issuers[0])
    for i, agency in enumerate(issuers[1:], start=1):
        if directory.level(agency) != lead_level:
            raise InputError(
                f"联合行文机关应当同级：「{agency.name}」与主办机关「{issuers[0].name}」不同级", f"issuer[{i}]"
            )


def _main_recipients(spec: DocumentSpec, directory: Directory) -> None:
    if spec.doc_type is DocType.REQUEST:
        if len(spec.to) != 1:
            raise InputError("请示应当一文一事，只主送一个上级机关", "to")
        if not directory.is_agency(spec.to[0]):
            raise InputError(f"请示只能主送一个机关，「{spec.to[0]}」是分组或个人", "to[0]")
        if spec.approval is None or not spec.approval.sign:
            raise InputError("请示应当标注签发人（approval.sign）", "approval.sign")
    elif not spec.to and spec.doc_type not in WITHOUT_MAIN_RECIPIENT:
        raise InputError(f"{spec.doc_type.value}应当有主送机关", "to")


def _no_copy_downward(spec: DocumentSpec, directory: Directory, issuers: list[Agency]) -> None:
    """上行文 may not be 抄送 to the issuer's subordinate agencies (条例 第十五条(四))."""
    for i, name in enumerate(spec.cc):
        for item in directory.expand(name, f"cc[{i}]"):
            if isinstance(item, Agency) and any(directory.is_subordinate(item, lead) for lead in issuers):
                raise InputError(f"上行文不得抄送下级机关「{item.name}」", f"cc[{i}]")


def lead_code(spec: DocumentSpec, directory: Directory) -> str:
    """机关代字 for the 发文字号: the lead issuer's (联合行文 uses the 主办机关's)."""
    code = directory.agency(spec.lead_issuer, "issuer[0]").code
    if code is None:
        raise NotFound(f"「{spec.lead_issuer}」没有机关代字", "issuer[0]")
    return code


def draft_terms(spec: DocumentSpec, directory: Directory, drafter: str) -> dict:
    """拟稿: check a spec and its drafter against the 条例 rules and the directory; the resolved 审批路径,
    保管期限 and 机关代字 a draft is stored with. The drafter must hold the 拟稿 role and may not be the
    document's own 签发人 (拟稿人不得签发本人拟稿)."""
    check_spec(spec, directory)
    check_role(directory.person(drafter, "as"), Role.DRAFTER, "拟稿")
    route = route_for(spec, directory)
    if route.sign == drafter:
        raise RefusedDecision(f"拟稿人「{drafter}」不能作为本文的签发人", "approval.sign")
    retention = spec.retention or directory.retention_for(spec.doc_type)
    return {"route": route, "retention": retention, "lead_code": lead_code(spec, directory)}
