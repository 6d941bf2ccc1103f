const drawer = () => element.querySelector('.sanad-drawer');
const place = (open) => {
  const column = document.querySelector('#sanad-side-column');
  if (!column || innerWidth < 900) return;  // narrow screens: the CSS width
  const left = Math.min(column.getBoundingClientRect().left, innerWidth - 480);
  open.style.left = Math.max(0, left) + 'px';
  open.style.width = 'auto';
};
const close = () => {
  const open = drawer();
  if (!open || open.hidden) return;
  open.hidden = true;
  const opener = window.sanadOpener;
  if (opener && opener.isConnected) opener.focus({preventScroll: true});
};
watch('value', () => {
  const open = drawer();
  if (!open) return;
  open.hidden = false;
  place(open);
  const mark = open.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
  open.focus({preventScroll: true});
});
element.addEventListener('click', (event) => {
  if (event.target.closest('.sanad-drawer-close')) close();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') close();
});
