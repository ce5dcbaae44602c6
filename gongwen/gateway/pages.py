"""The 门户's own pages, in Chinese: 登录 (name and password), 修改密码 (after a one-time password),
动态口令 (enrolling the TOTP second factor with a QR code, or entering a code), and the refusal page.

Every value shown is HTML-escaped; every form carries the CSRF token of the sign-in cookie.
"""

from __future__ import annotations

from html import escape

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;background:#f4f5f7;margin:0}
main{max-width:420px;margin:8vh auto;background:#fff;padding:32px 36px;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:22px;margin:0 0 4px}p.sub{color:#666;margin:0 0 24px}
label{display:block;margin:16px 0 6px;font-weight:600}
input{width:100%;box-sizing:border-box;padding:10px;font-size:16px;border:1px solid #bbb;border-radius:4px}
button{margin-top:24px;width:100%;padding:11px;font-size:16px;background:#b7121a;color:#fff;border:0;
border-radius:4px;cursor:pointer}
.error{background:#fdecea;color:#8a1c12;padding:10px 12px;border-radius:4px;margin-bottom:12px}
.qr{text-align:center;margin:12px 0}.secret{font-family:monospace;word-break:break-all;color:#333}
"""


def page(title: str, body: str, *, subtitle: str = "公文办理系统 · 门户") -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p>{body}</main></body></html>'
    )


def _error(message: str | None) -> str:
    return f'<div class="error" role="alert">{escape(message)}</div>' if message else ""


def _hidden(csrf: str, next_path: str) -> str:
    return (
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
    )


def sign_in(*, csrf: str, next_path: str, error: str | None = None, name: str = "") -> str:
    return page(
        "登录",
        _error(error)
        + '<form method="post" action="/gateway/signin">'
        + _hidden(csrf, next_path)
        + f'<label for="name">姓名</label><input id="name" name="name" value="{escape(name)}" '
        'autocomplete="username" required autofocus>'
        '<label for="password">密码</label><input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">登录</button></form>',
    )


def change_password(*, csrf: str, next_path: str, name: str, error: str | None = None) -> str:
    return page(
        "设置新密码",
        _error(error)
        + f"<p>{escape(name)}：您使用的是一次性密码，请先设置自己的密码（至少 10 个字符，不含姓名）。</p>"
        + '<form method="post" action="/gateway/password">'
        + _hidden(csrf, next_path)
        + '<label for="new">新密码</label><input id="new" name="new" type="password" '
        'autocomplete="new-password" required autofocus>'
        '<label for="again">再次输入新密码</label><input id="again" name="again" type="password" '
        'autocomplete="new-password" required>'
        '<button type="submit">保存并继续</button></form>',
    )


def totp(*, csrf: str, next_path: str, name: str, qr_svg: str | None, secret: str | None, error: str | None) -> str:
    """The second factor: with ``qr_svg`` the enrolment (scan, then enter the first code), else a code."""
    if qr_svg is not None:
        intro = (
            f"<p>{escape(name)}：您的角色须使用动态口令。请用身份验证器应用扫描下方二维码，"
            "然后输入应用显示的 6 位数字。</p>"
            f'<div class="qr">{qr_svg}</div>'
            f'<p>无法扫描时，手动输入密钥：<span class="secret">{escape(secret or "")}</span></p>'
        )
    else:
        intro = f"<p>{escape(name)}：请输入身份验证器应用显示的 6 位动态口令。</p>"
    return page(
        "动态口令",
        _error(error)
        + intro
        + '<form method="post" action="/gateway/totp">'
        + _hidden(csrf, next_path)
        + '<label for="code">动态口令</label><input id="code" name="code" inputmode="numeric" '
        'autocomplete="one-time-code" pattern="[0-9]{6}" required autofocus>'
        '<button type="submit">确认</button></form>',
    )


def refused(message: str) -> str:
    return page("无权访问", _error(message) + '<p><a href="/">返回首页</a></p>')
